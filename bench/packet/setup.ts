/**
 * Director-side setup shared by the benchmark's modes: the worker's scheduling priority, IP forwarding
 * off, IPv4 dropped at ingress after the AF_PACKET taps, and the XDP program a veth peer needs to accept
 * redirected frames.
 */
import { interfaceInfo } from '../../src/dataplane/packet/ifinfo.js';
import { withNetns } from '../../src/dataplane/packet/netns.js';
import { Program } from '../../src/dataplane/xdp/asm.js';
import { Bpf, ProgType, XdpAction, XdpFlags } from '../../src/dataplane/xdp/bpf.js';
import { nft, type Topology } from './topology.js';

export { REALTIME_PRIORITY } from './topology.js';

export const forwarding = async (t: Topology, on: boolean) =>
  t.lab.sysctl(t.dir, 'net.ipv4.ip_forward', on ? 1 : 0);

/** Drops IPv4 at the director's ingress, after the AF_PACKET taps: the user-space forwarder's job alone. */
export async function dropIngress(t: Topology): Promise<void> {
  await nft(
    t.lab,
    t.dir,
    `table netdev tlbenchpkt {\n chain in {\n  type filter hook ingress device ${t.dirIn} priority 0;\n  meta protocol ip drop\n }\n}`,
  );
}

export const undoDropIngress = (t: Topology) =>
  t.lab.exec(t.dir, ['nft', 'delete', 'table', 'netdev', 'tlbenchpkt']);

/**
 * The sink's end of the director's output veth gets an XDP program (native) that drops every frame:
 * veth accepts frames that another veth's XDP program redirects to it only while its peer runs NAPI,
 * which an XDP program turns on. That NAPI runs where the redirect flushes, on the director's CPU, so
 * what the sink does with a frame is counted as the director's work: dropping it at once stands for a
 * NIC putting it on the wire and freeing it. (An XDP_PASS program made the director's CPU build the
 * sink's socket buffers too; as a thread on the sink's CPU that NAPI overflowed veth's 256-frame ring.)
 * veth counts a frame its NAPI consumed as received whatever the program says, so the sink's count is
 * what the director delivered. Detached with the mode.
 */
export function sinkNapi(t: Topology): { close(): void } {
  const bpf = new Bpf();
  try {
    const prog = bpf.progLoad(
      ProgType.XDP,
      new Program().mov(0, XdpAction.DROP).exit().bytes(),
      'bench_sink',
    );
    const ifindex = withNetns(t.sink, () => interfaceInfo(t.sinkIf).index);
    const link = withNetns(t.sink, () => bpf.attachXdp(prog, ifindex, XdpFlags.DRV_MODE, t.sinkIf));
    return {
      close() {
        bpf.close(link);
        bpf.close(prog);
        bpf.dispose();
      },
    };
  } catch (err) {
    bpf.dispose();
    throw err;
  }
}

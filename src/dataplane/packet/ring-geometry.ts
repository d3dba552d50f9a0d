/**
 * TPACKET_V2 ring geometry (`packet_set_ring`, Documentation/networking/packet_mmap.rst): frames live in
 * physically contiguous blocks, frame i sits at floor(i/fpb)*blockSize + (i mod fpb)*frameSize.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';

export interface RingGeometry {
  /** Bytes per frame slot (multiple of 16). */
  readonly frameSize: number;
  /** Bytes per block (multiple of the page size, holds at least one frame). */
  readonly blockSize: number;
  readonly blockCount: number;
  readonly frameCount: number;
  /** blockSize * blockCount: this ring's share of the mapping. */
  readonly bytes: number;
}

export interface RingGeometryOptions {
  frameSize?: number;
  /** Rounded up to whole blocks. */
  frameCount?: number;
  blockSize?: number;
}

/**
 * 65632 holds the largest frame veth hands over with PACKET_VNET_HDR (GSO up to 64 KiB): mac offset 76
 * + 65535 + 14 rounded up to 16 (reference §1.7). Smaller frames truncate GSO super-frames, which the loop
 * then drops and counts.
 */
export const GSO_FRAME_SIZE = 65632;
export const DEFAULT_FRAME_COUNT = 256;
/** The smallest frame that still holds the header, the vnet header and a minimal Ethernet frame. */
export const MIN_FRAME_SIZE = 256;
export const PAGE_SIZE = 4096;
/** A sanity cap on one ring's mapping, so a typo cannot ask the kernel for gigabytes of pinned memory. */
export const MAX_RING_BYTES = 1 << 30;

/** Validates and completes a geometry; `which` names the ring in error messages. */
export function resolveGeometry(opts: RingGeometryOptions = {}, which = 'ring'): RingGeometry {
  const frameSize = opts.frameSize ?? GSO_FRAME_SIZE;
  if (!Number.isInteger(frameSize) || frameSize < MIN_FRAME_SIZE || frameSize % 16 !== 0) {
    throw invalid(
      which,
      `frameSize ${frameSize} must be an integer multiple of 16 and at least ${MIN_FRAME_SIZE}`,
    );
  }
  const blockSize = opts.blockSize ?? defaultBlockSize(frameSize);
  if (!Number.isInteger(blockSize) || blockSize % PAGE_SIZE !== 0 || blockSize < frameSize) {
    throw invalid(
      which,
      `blockSize ${blockSize} must be a multiple of ${PAGE_SIZE} and hold one frame of ${frameSize}`,
    );
  }
  const wanted = opts.frameCount ?? DEFAULT_FRAME_COUNT;
  if (!Number.isInteger(wanted) || wanted < 1)
    throw invalid(which, `frameCount ${wanted} must be a positive integer`);
  const framesPerBlock = Math.floor(blockSize / frameSize);
  const blockCount = Math.ceil(wanted / framesPerBlock);
  const bytes = blockSize * blockCount;
  if (bytes > MAX_RING_BYTES) {
    throw invalid(
      which,
      `${bytes} bytes exceeds the ${MAX_RING_BYTES}-byte cap; lower frameCount or frameSize`,
    );
  }
  return { frameSize, blockSize, blockCount, frameCount: blockCount * framesPerBlock, bytes };
}

/**
 * About 16 frames per block, as a power of two: the kernel allocates blocks with __get_free_pages (falling
 * back to vmalloc), so a power of two wastes nothing beyond the frame tail.
 */
export function defaultBlockSize(frameSize: number): number {
  let size = PAGE_SIZE;
  while (size < frameSize * 16) size *= 2;
  return size;
}

/** Byte offset of every frame of a ring, relative to the ring's start. */
export function frameOffsets(g: RingGeometry, base = 0): Uint32Array {
  const perBlock = Math.floor(g.blockSize / g.frameSize);
  const out = new Uint32Array(g.frameCount);
  for (let i = 0; i < g.frameCount; i++) {
    out[i] = base + Math.floor(i / perBlock) * g.blockSize + (i % perBlock) * g.frameSize;
  }
  return out;
}

/** `struct tpacket_req` for setsockopt(PACKET_RX_RING / PACKET_TX_RING). */
export function tpacketReq(g: RingGeometry): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeUInt32LE(g.blockSize, 0);
  buf.writeUInt32LE(g.blockCount, 4);
  buf.writeUInt32LE(g.frameSize, 8);
  buf.writeUInt32LE(g.frameCount, 12);
  return buf;
}

function invalid(which: string, message: string): TslvsError {
  return new TslvsError(ErrorCodes.INVALID_ARGUMENT, `${which} geometry: ${message}`, { ring: which });
}

/** `tslvs adm -h`: ipvsadm's help, with what tslvs adds and leaves out. */
import { IPVS_VERSION } from './format.js';

export const VERSION_LINE = `tslvs adm 0.1.0 (ipvsadm v1.31 command line, IPVS v${IPVS_VERSION})`;

export const TRY_HELP = "Try `tslvs adm -h' or 'tslvs adm --help' for more information.";

export const USAGE = `${VERSION_LINE}
Usage:
  tslvs adm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]
  tslvs adm -D virtual-service
  tslvs adm -C
  tslvs adm -R
  tslvs adm -S [-n]
  tslvs adm -a|e virtual-service -r server-address [options]
  tslvs adm -d virtual-service -r server-address
  tslvs adm -L|l [virtual-service] [options]
  tslvs adm -Z [virtual-service]
  tslvs adm --set tcp tcpfin udp
  tslvs adm -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin (all or nothing)
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]

Options:
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|sed|nq|sh|dh|mh|lblc|lblcr|fo|ovf|twos,
                                      the default scheduler is wlc.
  --persistent   -p [timeout]         persistent service (default timeout 360)
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --fullnat                           Full-NAT (tslvs, as DPVS's ipvsadm)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports (always numeric)
  --sched-flags  -b flags             scheduler flags (comma-separated)

tslvs:
  --server URL                        the daemon's admin API (default http://127.0.0.1:9090)
  TSLVS_TOKEN                         environment variable holding the admin token for changes
`;

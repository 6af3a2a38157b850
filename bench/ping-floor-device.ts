// The least a Node program can do to answer ping on the socat UDP link: no stack, no pool,
// no event beyond the datagram's own. It answers ARP requests and ICMP echo requests for
// its address by rewriting the received frame in place (addresses swapped, type 0, the
// checksum patched) and writing it back with write(2), as the device's link driver does.
// `bench/versus.ts --ping-floor` measures it beside lwIP and the device: the ping time
// any device hosted by Node pays on this link. Built into dist/ping-floor-device.mjs.
//
//   node dist/ping-floor-device.mjs LOCAL_PORT REMOTE_PORT ADDRESS

import { createSocket } from "node:dgram";
import { writeSync } from "node:fs";
import { udpHandleOf } from "../host-sim/udp-link";

const [localPort, remotePort] = [Number(process.argv[2]), Number(process.argv[3])];
const address = (process.argv[4] ?? "").split("/")[0].split(".").map(Number);
if (!(localPort > 0 && remotePort > 0) || address.length !== 4 || address.some((b) => !(b >= 0 && b <= 255))) {
  console.error("usage: ping-floor-device LOCAL_PORT REMOTE_PORT A.B.C.D");
  process.exit(2);
}
const MAC = [0x02, 0x78, 0x73, 0x6e, 0x65, 0x74];
let fd = -1;
let answered = 0;

const sock = createSocket("udp4");
function send(frame: Buffer): void {
  if (fd >= 0) writeSync(fd, frame, 0, frame.length);
  else sock.send(frame);
  answered++;
}

function isOurs(frame: Buffer, at: number): boolean {
  return frame[at] === address[0] && frame[at + 1] === address[1] && frame[at + 2] === address[2] && frame[at + 3] === address[3];
}

sock.on("message", (frame: Buffer) => {
  if (frame.length < 42) return;
  const type = (frame[12] << 8) | frame[13];
  if (type === 0x0806 && frame[21] === 1 && isOurs(frame, 38)) {
    frame.copy(frame, 0, 6, 12); // to the asker
    for (let i = 0; i < 6; i++) frame[6 + i] = frame[22 + i] = MAC[i];
    frame[21] = 2;
    frame.copy(frame, 32, 0, 6); // target: the asker's MAC and address
    for (let i = 0; i < 4; i++) {
      const spa = frame[28 + i];
      frame[38 + i] = spa;
      frame[28 + i] = address[i];
    }
    send(frame);
    return;
  }
  const ihl = (frame[14] & 0x0f) * 4;
  if (type !== 0x0800 || frame[23] !== 1 || !isOurs(frame, 30) || frame.length < 14 + ihl + 8) return;
  if ((frame[20] & 0x3f) !== 0 || frame[21] !== 0 || frame[14 + ihl] !== 8) return; // whole echo requests only
  frame.copy(frame, 0, 6, 12);
  for (let i = 0; i < 6; i++) frame[6 + i] = MAC[i];
  for (let i = 0; i < 4; i++) {
    frame[30 + i] = frame[26 + i];
    frame[26 + i] = address[i];
  }
  const icmp = 14 + ihl;
  frame[icmp] = 0;
  // RFC 1624: the type word went down by 0x0800, so the one's complement sum goes up by it.
  let sum = ((frame[icmp + 2] << 8) | frame[icmp + 3]) + 0x0800;
  sum = (sum & 0xffff) + (sum >>> 16);
  frame[icmp + 2] = sum >> 8;
  frame[icmp + 3] = sum & 0xff;
  send(frame);
});

sock.bind(localPort, "127.0.0.1", () => {
  sock.connect(remotePort, "127.0.0.1", () => {
    fd = udpHandleOf(sock)?.fd ?? -1;
    console.log(`ping floor device: ${address.join(".")} on udp 127.0.0.1:${localPort} -> ${remotePort}, ${fd >= 0 ? "write(2)" : "dgram send"}`);
  });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.log(`answered ${answered}`);
    sock.close();
    process.exit(0);
  });
}

// IGMP messages (src/wire/igmp.ts): version 2 reports and leaves and version 3 reports as
// RFC 2236 and RFC 3376 lay them out, checksums that verify, and the max response time of
// every query version, the floating-point form of RFC 3376 4.1.1 included.
import { describe, expect, it } from "vitest";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import {
  IGMPV3_CHANGE_TO_EXCLUDE, IGMPV3_MODE_IS_EXCLUDE, IGMP_HLEN, IGMP_V2_LEAVE_GROUP, IGMP_V2_MEMBERSHIP_REPORT,
  IGMP_V3_MEMBERSHIP_REPORT, igmpBuildV2, igmpBuildV3ReportHeader, igmpCheck, igmpCheckLen, igmpFinish, igmpGroup,
  igmpMaxRespCode, igmpMaxRespMs, igmpType, igmpV3Record,
} from "../../src/wire/igmp";
import { checksum } from "../packets";

const MDNS = 0xe00000fb; // 224.0.0.251

describe("IGMP messages (RFC 2236 2, RFC 3376 4)", () => {
  it("builds a version 2 report and leave whose checksums verify", () => {
    const buf = new Uint8Array(12).fill(0xa5);
    expect(igmpBuildV2(buf, 2, IGMP_V2_MEMBERSHIP_REPORT, MDNS)).toBe(2 + IGMP_HLEN);
    expect([...buf.subarray(2, 10)].map((b, i) => (i === 2 || i === 3 ? 0 : b))).toEqual([0x16, 0, 0, 0, 224, 0, 0, 251]);
    expect(checksum(buf, 2, IGMP_HLEN)).toBe(0);
    expect([buf[1], buf[10]]).toEqual([0xa5, 0xa5]);
    expect([igmpType(buf, 2), igmpMaxRespCode(buf, 2), igmpGroup(buf, 2)]).toEqual([IGMP_V2_MEMBERSHIP_REPORT, 0, MDNS]);
    igmpBuildV2(buf, 2, IGMP_V2_LEAVE_GROUP, MDNS);
    expect(buf[2]).toBe(0x17);
    expect(checksum(buf, 2, IGMP_HLEN)).toBe(0);
  });

  it("builds a version 3 report of group records with no sources", () => {
    const buf = new Uint8Array(24);
    let o = igmpBuildV3ReportHeader(buf, 0, 2);
    o = igmpV3Record(buf, o, IGMPV3_CHANGE_TO_EXCLUDE, MDNS);
    o = igmpV3Record(buf, o, IGMPV3_MODE_IS_EXCLUDE, 0xeffffffa);
    igmpFinish(buf, 0, o);
    expect(o).toBe(24);
    expect([...buf.subarray(4, 24)]).toEqual([0, 0, 0, 2, 4, 0, 0, 0, 224, 0, 0, 251, 2, 0, 0, 0, 239, 255, 255, 250]);
    expect(buf[0]).toBe(IGMP_V3_MEMBERSHIP_REPORT);
    expect(checksum(buf, 0, 24)).toBe(0);
    expect(igmpCheck(buf, 0)).not.toBe(0);
  });

  it("reads the max response time of each query version", () => {
    expect(igmpCheckLen(7)).toBe(WIRE_TRUNCATED);
    expect(igmpCheckLen(8)).toBe(WIRE_OK);
    expect(igmpMaxRespMs(0, false)).toBe(10_000); // version 1: 10 s (RFC 2236 4)
    expect(igmpMaxRespMs(0, true)).toBe(1); // version 3: at once (RFC 3376 4.1.1)
    expect(igmpMaxRespMs(100, false)).toBe(10_000);
    expect(igmpMaxRespMs(200, false)).toBe(20_000); // version 2: always tenths
    expect(igmpMaxRespMs(127, true)).toBe(12_700);
    // 0x80: mant 0, exp 0 -> 0x10 << 3 = 128 tenths; 0xff: mant 15, exp 7 -> 31 << 10 = 31744 tenths
    expect(igmpMaxRespMs(0x80, true)).toBe(12_800);
    expect(igmpMaxRespMs(0xff, true)).toBe(3_174_400);
  });
});

/*
 * xsnet: the native twin of src/wire/bulk.ts, the byte loops a TCP segment spends most of
 * its time in on XS. moddable/native/bulk.ts binds each function below to the name the
 * stack imports; manifest_core.json maps xsnet/src/wire/bulk to it for Moddable builds.
 *
 * The results are the JavaScript's, bit for bit: the same unfolded sum (RFC 1071, deferred
 * carries; a running sum above 2^32 folded first, as csumReduce folds it), the same bytes
 * copied. Every argument is checked before any byte is touched: a missing argument or one
 * that is not a number or a buffer is a TypeError, an offset or length outside its buffer a
 * RangeError with the JavaScript's message. Bytes are loaded one at a time (any alignment);
 * copies are memmove (overlap within one buffer is allowed, as copyWithin allows it).
 *
 * A buffer argument is a Uint8Array, a DataView or an ArrayBuffer (anything
 * xsmcGetBufferReadable takes), offsets counted from the start of the view. Pointers into
 * the XS chunk heap are taken last and nothing allocates while they are held.
 */

#include "xsmc.h"

#include <stdint.h>
#include <string.h>

#define kSafeIntegerMax 9007199254740992.0	/* 2^53: the largest running sum taken */

/* A non-negative integer argument below 2^32 (a JavaScript integer or an integral double). */
static uint32_t argIndex(xsMachine *the, xsIntegerValue i, const char *fn, const char *name)
{
	xsType type = xsmcTypeOf(xsArg(i));
	if (xsIntegerType == type) {
		xsIntegerValue value = xsmcToInteger(xsArg(i));
		if (value < 0)
			xsRangeError("%s: %s is %d, below 0", fn, name, (int)value);
		return (uint32_t)value;
	}
	if (xsNumberType == type) {
		xsNumberValue value = xsmcToNumber(xsArg(i));
		if (!((value >= 0) && (value <= 4294967295.0)) || (value != (xsNumberValue)(uint32_t)value))
			xsRangeError("%s: %s is not an integer from 0 to 4294967295", fn, name);
		return (uint32_t)value;
	}
	xsTypeError("%s: %s is not a number", fn, name);
	return 0;
}

/* The running sum: an integer from 0 to 2^53. */
static uint64_t argSum(xsMachine *the, xsIntegerValue i, const char *fn)
{
	xsType type = xsmcTypeOf(xsArg(i));
	if (xsIntegerType == type) {
		xsIntegerValue value = xsmcToInteger(xsArg(i));
		if (value < 0)
			xsRangeError("%s: sum is %d, below 0", fn, (int)value);
		return (uint64_t)value;
	}
	if (xsNumberType == type) {
		xsNumberValue value = xsmcToNumber(xsArg(i));
		if (!((value >= 0) && (value <= kSafeIntegerMax)) || (value != (xsNumberValue)(uint64_t)value))
			xsRangeError("%s: sum is not an integer from 0 to 2^53", fn);
		return (uint64_t)value;
	}
	xsTypeError("%s: sum is not a number", fn);
	return 0;
}

static void argArgc(xsMachine *the, xsIntegerValue argc, const char *fn)
{
	if (xsmcArgc < argc)
		xsTypeError("%s: %d arguments, %d given", fn, (int)argc, (int)xsmcArgc);
}

/* A buffer argument that is not even an object; XS's own TypeError ("invalid buffer") names any other. */
static void argBuffer(xsMachine *the, xsIntegerValue i, const char *fn, const char *name)
{
	if (xsReferenceType != xsmcTypeOf(xsArg(i)))
		xsTypeError("%s: %s is not a buffer", fn, name);
}

/* Sum of the big-endian 16-bit words of p[0..len); an odd last byte is a word's high byte. */
static uint64_t sumWords(const uint8_t *p, uint32_t len)
{
	uint64_t total = 0;
	while (len >= 2) {
		/* 64 KB at a time: hi and lo stay below 255 * 32768, far from 2^32. */
		uint32_t n = (len > 0x10000) ? 0x10000 : (len & ~1u);
		const uint8_t *end = p + n;
		uint32_t hi = 0, lo = 0;
		/* Plain enough for the compiler to vectorize (gcc -O3 on x86: twice an 8-byte unrolled loop). */
		for (; p < end; p += 2) {
			hi += p[0];
			lo += p[1];
		}
		total += ((uint64_t)hi << 8) + lo;
		len -= n;
	}
	if (len)
		total += (uint32_t)p[0] << 8;
	return total;
}

/* (buf, off, len, sum): csumPartial and csumPartialView, which differ only in their names. */
static void csumPartial(xsMachine *the, const char *fn, const char *arg, const char *noun)
{
	uint32_t off, len, count;
	uint64_t sum;
	void *data;

	argArgc(the, 4, fn);
	off = argIndex(the, 1, fn, "off");
	len = argIndex(the, 2, fn, "len");
	sum = argSum(the, 3, fn);
	argBuffer(the, 0, fn, arg);
	xsmcGetBufferReadable(xsArg(0), &data, &count);
	if ((off > count) || (len > count - off)) {
		if (len <= UINT32_MAX - off)
			xsRangeError("%s: bytes %u..%u outside a %s of %u", fn, (unsigned)off, (unsigned)(off + len), noun, (unsigned)count);
		xsRangeError("%s: %u bytes from %u outside a %s of %u", fn, (unsigned)len, (unsigned)off, noun, (unsigned)count);
	}
	if (sum > 0xffffffffu) {
		/* As csumReduce: end-around carries until 16 bits (congruent mod 0xffff). */
		while (sum > 0xffffffffu)
			sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum += sumWords((const uint8_t *)data + off, len);
	if (sum <= 0x7fffffff)
		xsmcSetInteger(xsResult, (xsIntegerValue)sum);
	else
		xsmcSetNumber(xsResult, (xsNumberValue)sum);
}

/* (dst, dstOff, src, srcOff, len): copyBytes and copyView. */
static void copy(xsMachine *the, const char *fn)
{
	uint32_t dstOff, srcOff, len, dstCount, srcCount;
	void *dst, *src;

	argArgc(the, 5, fn);
	dstOff = argIndex(the, 1, fn, "dstOff");
	srcOff = argIndex(the, 3, fn, "srcOff");
	len = argIndex(the, 4, fn, "len");
	argBuffer(the, 0, fn, "dst");
	argBuffer(the, 2, fn, "src");
	xsmcGetBufferReadable(xsArg(2), &src, &srcCount);
	xsmcGetBufferWritable(xsArg(0), &dst, &dstCount);
	if ((srcOff > srcCount) || (len > srcCount - srcOff) || (dstOff > dstCount) || (len > dstCount - dstOff))
		xsRangeError("%s: %u bytes from %u of %u to %u of %u", fn, (unsigned)len, (unsigned)srcOff, (unsigned)srcCount, (unsigned)dstOff, (unsigned)dstCount);
	memmove((uint8_t *)dst + dstOff, (const uint8_t *)src + srcOff, len);
}

void xs_xsnet_csum_partial(xsMachine *the)
{
	csumPartial(the, "csumPartial", "buf", "buffer");
}

void xs_xsnet_csum_partial_view(xsMachine *the)
{
	csumPartial(the, "csumPartialView", "view", "view");
}

void xs_xsnet_copy_bytes(xsMachine *the)
{
	copy(the, "copyBytes");
}

void xs_xsnet_copy_view(xsMachine *the)
{
	copy(the, "copyView");
}

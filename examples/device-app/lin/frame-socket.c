/*
 * FrameSocket: a UDP socket of ECMA-419's shape for Moddable's Linux simulator, made to carry
 * Ethernet frames for drivers/udp-frame-link.ts (see frame-socket.ts). Written for xsnet.
 *
 * The socket is watched by the simulator's GLib main loop (g_unix_fd_add), so a datagram
 * raises onReadable at once, as a MAC raises its RX interrupt; the watch is then off (the
 * interrupt masked) until read() finds the socket empty (EAGAIN), as NAPI re-enables an
 * interrupt when its poll completes. read(buffer) receives straight into the caller's buffer
 * (an skb's slot) and returns the datagram's length, its real length when it was longer than
 * the buffer (MSG_TRUNC: the rest is dropped and the caller counts it); read() without one
 * returns an ArrayBuffer with address and port, as ECMA-419's. write() is one sendto(2).
 */

#include "xsmc.h"
#include "mc.xs.h"

#include <glib.h>
#include <glib-unix.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 4 MB each way: a whole TCP window of frames fits while the app is busy (Linux doubles it,
   within net.core.rmem_max) */
#define kFrameSocketBufferBytes (4 << 20)
/* the largest UDP payload of an IPv4 datagram */
#define kFrameSocketDatagramMax (65507)

typedef struct {
	int fd;
	/* the GLib source while the watch is on, 0 while masked */
	guint watch;
	xsMachine *the;
	xsSlot obj;
	xsSlot onReadable;
} FrameSocketRecord;

static gboolean frameSocketReady(gint fd, GIOCondition condition, gpointer data);

static void frameSocketArm(FrameSocketRecord *fs)
{
	if (!fs->watch)
		fs->watch = g_unix_fd_add(fs->fd, G_IO_IN, frameSocketReady, fs);
}

void xs_framesocket_destructor(void *data)
{
	FrameSocketRecord *fs = data;
	if (!fs)
		return;
	if (fs->watch)
		g_source_remove(fs->watch);
	if (fs->fd >= 0)
		close(fs->fd);
	c_free(fs);
}

static FrameSocketRecord *frameSocketOpen(xsMachine *the, const char *what)
{
	FrameSocketRecord *fs = xsmcGetHostData(xsThis);
	if (!fs)
		xsUnknownError("FrameSocket %s: the socket is closed", what);
	return fs;
}

void xs_framesocket_constructor(xsMachine *the)
{
	struct sockaddr_in address;
	FrameSocketRecord *fs;
	int port, fd, size, error;

	xsmcVars(2);
	if (xsmcArgc < 1 || !xsmcTest(xsArg(0)))
		xsTypeError("FrameSocket: options must be an object");
	xsmcGet(xsVar(0), xsArg(0), xsID_port);
	port = xsmcToInteger(xsVar(0));
	if ((port < 1) || (port > 65535))
		xsRangeError("FrameSocket: port must be 1..65535, got %d", port);
	c_memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	address.sin_addr.s_addr = htonl(INADDR_ANY);
	if (xsmcHas(xsArg(0), xsID_address)) {
		xsmcGet(xsVar(0), xsArg(0), xsID_address);
		if (xsmcTest(xsVar(0)) && (1 != inet_pton(AF_INET, xsmcToString(xsVar(0)), &address.sin_addr)))
			xsRangeError("FrameSocket: address must be a dotted IPv4 address");
	}
	xsmcGet(xsVar(1), xsArg(0), xsID_onReadable);
	if (!xsmcIsCallable(xsVar(1)))
		xsTypeError("FrameSocket: onReadable must be a function");

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		xsUnknownError("FrameSocket: socket: %s", strerror(errno));
	size = kFrameSocketBufferBytes;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (0 != bind(fd, (struct sockaddr *)&address, sizeof(address))) {
		error = errno;
		close(fd);
		xsUnknownError("FrameSocket: bind to port %d: %s", port, strerror(error));
	}
	fcntl(fd, F_SETFL, O_NONBLOCK | fcntl(fd, F_GETFL, 0));

	fs = c_calloc(1, sizeof(FrameSocketRecord));
	if (!fs) {
		close(fd);
		xsUnknownError("FrameSocket: no memory");
	}
	fs->fd = fd;
	fs->the = the;
	fs->obj = xsThis;
	fs->onReadable = xsVar(1);
	xsmcSetHostData(xsThis, fs);
	/* held until close(): the GLib watch points at them */
	xsRemember(fs->obj);
	xsRemember(fs->onReadable);
	frameSocketArm(fs);
}

void xs_framesocket_close(xsMachine *the)
{
	FrameSocketRecord *fs = xsmcGetHostData(xsThis);
	if (!fs)
		return;
	xsmcSetHostData(xsThis, NULL);
	xsForget(fs->obj);
	xsForget(fs->onReadable);
	xs_framesocket_destructor(fs);
}

/* The RX "interrupt": masked, then onReadable(1); read() unmasks once the socket is empty. */
static gboolean frameSocketReady(gint fd, GIOCondition condition, gpointer data)
{
	FrameSocketRecord *fs = data;
	fs->watch = 0;
	xsBeginHost(fs->the);
		xsmcSetInteger(xsResult, 1);
		xsCallFunction1(fs->onReadable, fs->obj, xsResult);
	xsEndHost(the);
	return G_SOURCE_REMOVE;
}

void xs_framesocket_read(xsMachine *the)
{
	FrameSocketRecord *fs = frameSocketOpen(the, "read");
	ssize_t length;

	if ((xsmcArgc > 0) && xsmcTest(xsArg(0))) {
		void *data;
		xsUnsignedValue size;
		xsmcGetBufferWritable(xsArg(0), &data, &size);
		length = recv(fs->fd, data, size, MSG_TRUNC);
		if (length < 0) {
			if ((EAGAIN == errno) || (EWOULDBLOCK == errno)) {
				frameSocketArm(fs);
				return;
			}
			xsUnknownError("FrameSocket read: %s", strerror(errno));
		}
		xsmcSetInteger(xsResult, (xsIntegerValue)length);
		return;
	}
	{
		static uint8_t datagram[kFrameSocketDatagramMax];
		struct sockaddr_in from;
		socklen_t fromLength = sizeof(from);
		char name[INET_ADDRSTRLEN];
		length = recvfrom(fs->fd, datagram, sizeof(datagram), 0, (struct sockaddr *)&from, &fromLength);
		if (length < 0) {
			if ((EAGAIN == errno) || (EWOULDBLOCK == errno)) {
				frameSocketArm(fs);
				return;
			}
			xsUnknownError("FrameSocket read: %s", strerror(errno));
		}
		xsmcVars(1);
		xsmcSetArrayBuffer(xsResult, datagram, (xsIntegerValue)length);
		xsmcSetInteger(xsVar(0), ntohs(from.sin_port));
		xsmcSet(xsResult, xsID_port, xsVar(0));
		inet_ntop(AF_INET, &from.sin_addr, name, sizeof(name));
		xsmcSetString(xsVar(0), name);
		xsmcSet(xsResult, xsID_address, xsVar(0));
	}
}

void xs_framesocket_write(xsMachine *the)
{
	FrameSocketRecord *fs = frameSocketOpen(the, "write");
	struct sockaddr_in to;
	void *data;
	xsUnsignedValue size;
	int port;

	c_memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	if (1 != inet_pton(AF_INET, xsmcToString(xsArg(1)), &to.sin_addr))
		xsRangeError("FrameSocket write: address must be a dotted IPv4 address");
	port = xsmcToInteger(xsArg(2));
	if ((port < 1) || (port > 65535))
		xsRangeError("FrameSocket write: port must be 1..65535, got %d", port);
	to.sin_port = htons(port);
	/* the buffer's address last: nothing after it may allocate */
	xsmcGetBufferReadable(xsArg(0), &data, &size);
	if (sendto(fs->fd, data, size, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		xsUnknownError("FrameSocket write: %s", strerror(errno));
}

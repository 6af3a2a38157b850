/*
 * XS stack use for bench/xs-stack: the machine's own counters (xsAll.h). XS records the
 * stack peak when a function returns (xsRun.c, XS_CODE_END) only when built with
 * mxInstrument, which mcconfig -i and -d define; without it these functions refuse.
 */
#include "xsAll.h"
#include "xsmc.h"

void xs_stack_probe_reset(xsMachine *the)
{
#ifdef mxInstrument
	the->stackPeak = the->stack;
#else
	xsUnknownError("stack-probe: build with mcconfig -i (mxInstrument) to keep the stack peak");
#endif
}

void xs_stack_probe_peak(xsMachine *the)
{
#ifdef mxInstrument
	if (the->stackPeak > the->stack)
		the->stackPeak = the->stack;
	xsmcSetInteger(xsResult, (txInteger)(the->stackTop - the->stackPeak));
#else
	xsUnknownError("stack-probe: build with mcconfig -i (mxInstrument) to keep the stack peak");
#endif
}

void xs_stack_probe_depth(xsMachine *the)
{
	xsmcSetInteger(xsResult, (txInteger)(the->stackTop - the->stack));
}

void xs_stack_probe_size(xsMachine *the)
{
	xsmcSetInteger(xsResult, (txInteger)(the->stackTop - the->stackBottom));
}

/* The frames on the stack now, innermost first: "name@slots;..." where slots is how far
   below the stack's top the frame begins (callers' slots included). */
void xs_stack_probe_frames(xsMachine *the)
{
	char out[4096];
	char name[128];
	txSize used = 0;
	txSlot *frame = the->frame;
	out[0] = 0;
	while (frame && used < (txSize)sizeof(out) - 200) {
		txSlot *function = frame + 2;
		name[0] = 0;
		if (function->kind == XS_REFERENCE_KIND)
			fxBufferFunctionName(the, name, sizeof(name), function->value.reference, "");
		used += c_snprintf(out + used, sizeof(out) - used, "%s@%d;", name[0] ? name : "?", (int)(the->stackTop - frame));
		frame = frame->next;
	}
	xsmcSetString(xsResult, out);
}

/* Set the peak back to a figure peak() gave: what ran since is not counted (the simulated
   MAC's own work, which a board's hardware does). */
void xs_stack_probe_restore(xsMachine *the)
{
#ifdef mxInstrument
	txInteger slots = xsmcToInteger(xsArg(0));
	if ((slots < 0) || (slots > (the->stackTop - the->stackBottom)))
		xsRangeError("stack-probe: restore(%d) is outside the stack", (int)slots);
	the->stackPeak = the->stackTop - slots;
#else
	xsUnknownError("stack-probe: build with mcconfig -i (mxInstrument) to keep the stack peak");
#endif
}

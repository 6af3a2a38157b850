declare module "stack-probe" {
  /** forget the peak: from now on it is the slots in use at this call */
  export function reset(): void;
  /** the most stack slots in use since reset(), counted from the stack's top */
  export function peak(): number;
  /** stack slots in use at this call (the probe's own frame included) */
  export function depth(): number;
  /** the machine's stack in slots (the manifest's creation.stack) */
  export function size(): number;
  /** the frames on the stack now, innermost first: "name@slots;..." (slots below the top where each frame begins) */
  export function frames(): string;
  /** set the peak back to a figure peak() gave: what ran since is not counted */
  export function restore(slots: number): void;
}

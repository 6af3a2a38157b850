// Byte copies on packet paths: copyBytes (Uint8Arrays; copyWithin within one) and copyView
// (DataViews, an application's buffer beside the pool). They live in wire/bulk.ts, which a
// Moddable build maps to native code, and are re-exported here, where their callers look.

export { copyBytes, copyView } from "../wire/bulk";

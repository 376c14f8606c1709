// Types of the part of hpack.js (RFC 7541 HPACK, no types of its own) that authority-rewrite.ts uses.
declare module 'hpack.js' {
  /** One decoded header field. */
  export interface HpackField {
    readonly name: string;
    readonly value: string;
    readonly neverIndex: boolean;
  }
  /** A stateful HPACK decoder (one per connection direction): write a block, execute, read fields. */
  export interface HpackDecompressor {
    write(block: Buffer): void;
    execute(callback?: (err: Error | null) => void): void;
    read(): HpackField | null;
    updateTableSize(size: number): void;
  }
  const hpack: {
    decompressor: { create(options: { table: { size: number } }): HpackDecompressor };
  };
  export default hpack;
}

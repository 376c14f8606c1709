/**
 * A report as the store writes it: 2-space JSON with a final newline, in one go
 * ({@link serializeReport}) or in slices that give the event loop back between them
 * ({@link serializeReportSliced}), for a checkpoint taken while the run goes on: a long run's
 * report is a few MB, and one `JSON.stringify` of it, or one join of its pieces, would hold
 * churn's loop for tens of ms. The slices are handed to the writer as they are, never joined
 * into one string; joined, they are the text {@link serializeReport} gives, byte for byte.
 */

/** The report's text, at once. */
export function serializeReport(report: unknown): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Options of {@link serializeReportSliced}. */
export interface SliceOptions {
  /** Gives the event loop back; default a `setImmediate`. */
  readonly pause?: () => Promise<void>;
  /** Array items written between pauses. Default 8. */
  readonly itemsPerSlice?: number;
}

/** How deep the slicing goes: the report, its sections, their arrays' items. */
const slicedLevels = 3;

/**
 * The text of {@link serializeReport} as a list of slices, in order: the report's top-level
 * keys one by one, and the arrays one level below them (the timeline's intervals, the resource
 * points) `itemsPerSlice` items at a time, with a pause after each slice.
 */
export async function serializeReportSliced(
  report: unknown,
  options: SliceOptions = {},
): Promise<string[]> {
  const pause = options.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const itemsPerSlice = options.itemsPerSlice ?? 8;
  const slices: string[] = [];
  let pieces: string[] = [];
  let items = 0;
  const cut = async (): Promise<void> => {
    if (pieces.length > 0) slices.push(pieces.join(''));
    pieces = [];
    items = 0;
    await pause();
  };

  const branches = (value: unknown, levels: number): value is object =>
    levels > 0 && value !== null && typeof value === 'object' && !hasToJson(value);
  /** JSON.stringify's text of `value` nested at `pad`; undefined when it has no JSON form. */
  const leaf = (value: unknown, pad: string): string | undefined =>
    (JSON.stringify(value, null, 2) as string | undefined)?.replaceAll('\n', `\n${pad}`);

  const emit = async (value: object, pad: string, levels: number): Promise<void> => {
    const inner = `${pad}  `;
    if (Array.isArray(value)) {
      if (value.length === 0) {
        pieces.push('[]');
        return;
      }
      pieces.push('[');
      for (const [i, item] of (value as unknown[]).entries()) {
        pieces.push(i === 0 ? '\n' : ',\n', inner);
        // As JSON.stringify: an item with no JSON form is null.
        if (branches(item, levels - 1)) await emit(item, inner, levels - 1);
        else pieces.push(leaf(item, inner) ?? 'null');
        if (++items >= itemsPerSlice) await cut();
      }
      pieces.push(`\n${pad}]`);
      return;
    }
    let empty = true;
    pieces.push('{');
    for (const [key, field] of Object.entries(value)) {
      const nested = branches(field, levels - 1);
      const text = nested ? undefined : leaf(field, inner);
      // As JSON.stringify: a key whose value has no JSON form (undefined) is left out.
      if (!nested && text === undefined) continue;
      pieces.push(empty ? '\n' : ',\n', inner, JSON.stringify(key), ': ');
      empty = false;
      if (nested) await emit(field, inner, levels - 1);
      else pieces.push(text!);
      if (levels === slicedLevels) await cut();
    }
    pieces.push(empty ? '}' : `\n${pad}}`);
  };

  if (branches(report, slicedLevels)) await emit(report, '', slicedLevels);
  else pieces.push(leaf(report, '') ?? 'undefined');
  pieces.push('\n');
  slices.push(pieces.join(''));
  return slices;
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

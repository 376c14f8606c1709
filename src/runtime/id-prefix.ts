/**
 * Ids by unique prefix, as containerd's CRI plugin resolves them (its truncindex): a call may
 * name a pod or container by any non-empty prefix of its id that no other id shares, as
 * `crictl inspectp 3f2a` does. An exact id always wins; a prefix of several ids is ambiguous.
 */

/** What a name resolved to: one id, none, or several. */
export type IdResolution =
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly matches: number };

/**
 * Resolves `name` among `ids` (`has` answers for an exact id at once; the scan over `ids` runs
 * only when it is no exact id).
 */
export function resolveIdPrefix(
  name: string,
  has: (id: string) => boolean,
  ids: () => Iterable<string>,
): IdResolution {
  if (has(name)) return { kind: 'id', id: name };
  if (name === '') return { kind: 'none' };
  let found: string | undefined;
  let matches = 0;
  for (const id of ids()) {
    if (id.startsWith(name)) {
      found = id;
      matches++;
    }
  }
  if (matches === 0 || found === undefined) return { kind: 'none' };
  return matches === 1 ? { kind: 'id', id: found } : { kind: 'ambiguous', matches };
}

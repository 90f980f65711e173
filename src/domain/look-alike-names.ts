/**
 * Names that look the same and are not: Herald compares event-type names exactly, code point for
 * code point, normalizing nothing, so `café` written with `é` (NFC) and with `e` and a combining
 * accent (NFD) are two names, and so are `order.paid` and `order.paid` followed by a zero-width
 * space. Used to say why an enforced catalog refuses a name that, as far as anyone can see, it has.
 */

/**
 * Characters that show nothing or only steer how text around them is shown: the soft hyphen, the
 * Arabic letter mark, the Mongolian vowel separator, zero-width spaces and joiners, the
 * directional marks, embeddings, overrides and isolates, the word joiner and invisible operators,
 * and the byte-order mark (a zero-width no-break space).
 */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** The other spellings of `name` someone may have meant: its NFC and NFD forms, and those without invisible characters. */
export function lookAlikeForms(name: string): string[] {
  const visible = name.replace(INVISIBLE, '');
  const forms = new Set([
    name.normalize('NFC'),
    name.normalize('NFD'),
    visible.normalize('NFC'),
    visible.normalize('NFD'),
  ]);
  forms.delete(name);
  forms.delete('');
  return [...forms];
}

/**
 * What to add to a refusal of `name` when the catalog has `other`, one of its lookAlikeForms:
 * how they differ, and that the catalog's spelling is the one to send.
 */
export function lookAlikeHint(name: string, other: string): string {
  const hidden = [...new Set(name.match(INVISIBLE) ?? [])].map(codePoint);
  const how =
    hidden.length > 0
      ? `this one holds ${hidden.join(', ')}, which ${hidden.length > 1 ? 'show' : 'shows'} nothing`
      : 'one writes an accented letter as one character (NFC), the other as a letter and a combining mark (NFD)';
  return `the catalog has ${JSON.stringify(other)}, which looks the same but is written with other characters (${how}); names are compared exactly: send the catalog's`;
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

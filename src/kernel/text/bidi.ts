// Unicode's explicit direction controls (embeddings, overrides, isolates). In a file name or a subject
// line they make "report\u202Egpj.exe" show as "reportexe.jpg": a program dressed as a picture. They
// are removed from names and single lines that people are shown or sent; text in a paragraph keeps them.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

export function withoutBidiControls(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}

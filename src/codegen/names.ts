// Safe identifiers for generated code. Every identifier in emitted JS comes from here:
// model names are reduced to [A-Za-z0-9_] and prefixed, so no user text can become a
// keyword, a global, or collide with the generated runtime's own names.

export class NameTable {
  private readonly used = new Set<string>();
  private counter = 0;

  /** A fresh identifier derived from a model name: `h1` -> `v_h1`. */
  derive(prefix: string, hint: string | undefined): string {
    const base = `${prefix}${hint ? `_${hint.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 40)}` : ""}`;
    return this.unique(base);
  }

  /** A function that forgets every name handed out after this call (for emission that
   *  is thrown away, so the code kept reads the same as if it never happened). */
  checkpoint(): () => void {
    const used = new Set(this.used);
    const counter = this.counter;
    return () => {
      this.used.clear();
      for (const n of used) this.used.add(n);
      this.counter = counter;
    };
  }

  unique(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }
}

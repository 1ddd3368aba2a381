// The model in the URL: #<example>:<text as base64url of its UTF-8 bytes>.

export function encodeModel(example: string, text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `#${example}:${btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export function decodeModel(hash: string): { example: string; text: string } | undefined {
  const m = /^#([a-z0-9]+):([A-Za-z0-9_-]*)$/.exec(hash);
  if (!m) return undefined;
  try {
    const binary = atob(m[2]!.replace(/-/g, "+").replace(/_/g, "/"));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    return { example: m[1]!, text };
  } catch {
    return undefined; // a damaged link opens the default example
  }
}

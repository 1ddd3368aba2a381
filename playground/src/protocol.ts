// Messages between the page and the training worker.

export type ToWorker =
  | { type: "train"; run: number; source: string; filename: string; example: string }
  | { type: "stop" };

export type FromWorker =
  | { type: "progress"; run: number; step: number; losses: number[]; accuracy?: number }
  | { type: "done"; run: number; step: number; ms: number; predictions: number[] }
  | { type: "stopped"; run: number; step: number }
  | { type: "error"; run: number; message: string };

/** IPC messages between the benchmark and its receiver process (receiver.ts). */
export type ParentMessage =
  | { type: 'sample'; id: number; key: string }
  | { type: 'arrivals'; id: number; key: string }
  | { type: 'listen'; id: number; count: number }
  | { type: 'stop' };

export type ReceiverMessage =
  | { type: 'ready'; port: number }
  | { type: 'counts'; at: number; counts: Record<string, number>; hanging: number }
  | { type: 'sample'; id: number; count: number; at: number }
  | { type: 'arrivals'; id: number; seq: number[]; at: number[] }
  | { type: 'listening'; id: number; ports: number[] };

/** IPC messages between the soak and its receiver process (soak-receiver.ts). */
export type SoakReceiverRequest =
  | { type: 'counts'; id: number }
  | { type: 'ids'; id: number; key: string }
  | { type: 'listen'; id: number }
  | { type: 'stop' };

export type SoakReceiverReply =
  | { type: 'ready'; port: number }
  | { type: 'counts'; id: number; counts: Record<string, number> }
  | { type: 'ids'; id: number; ids: string[] }
  | { type: 'listening'; id: number; port: number };

/** What the BullMQ baseline's producer and worker share. */
export const QUEUE = 'webhooks';
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export interface WebhookJob {
  /** Path on the receiver. */
  path: string;
  /** The payload as JSON text. */
  payload: string;
  /** When the event was created (ISO), as in Herald's envelope. */
  createdAt: string;
}

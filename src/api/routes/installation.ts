import type { FastifyInstance } from 'fastify';
import { callerOf } from '../auth.ts';
import type { RouteContext } from './context.ts';

/**
 * GET /api/v1/installation: the settings of this installation that shape what a caller may send (the
 * largest request body, past which it is refused 413) and what an endpoint gets when it sets nothing
 * (timeout default and maximum, retry schedule and its jitter), for any valid token, portal tokens
 * included. Nothing secret: the dashboard's endpoint
 * form validates and explains with these rather than with Herald's built-in defaults.
 */
export function installationRoutes(app: FastifyInstance, { config }: RouteContext) {
  const { defaultTimeoutMs, maxTimeoutMs, retrySchedule, retryJitter } = config.delivery;
  const answer = {
    delivery: { defaultTimeoutMs, maxTimeoutMs, retrySchedule: [...retrySchedule], retryJitter },
    requests: { maxBodyBytes: config.maxBodyBytes },
  };
  app.get(
    '/api/v1/installation',
    {
      config: { access: 'any', portal: true },
      schema: {
        tags: ['installation'],
        summary:
          'This installation’s settings: timeout default and maximum, default retry schedule, largest request body',
      },
    },
    async (request) => {
      callerOf(request); // any valid token (the onRequest hook has checked; this keeps it so)
      return answer;
    },
  );
}

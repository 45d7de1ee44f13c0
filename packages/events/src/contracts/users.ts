import { z } from 'zod';
import { defineEvent } from './define.ts';
import { id } from './common.ts';

export const UserRegistered = defineEvent('UserRegistered', {
  topic: 'users.events',
  // Never credentials: no password, hash or token ever travels in an event.
  schema: z.looseObject({
    userId: id,
    email: z.string().min(3).max(320),
    name: z.string().min(1),
    role: z.enum(['CUSTOMER', 'ADMIN']),
  }),
  aggregateId: (payload) => payload.userId,
});

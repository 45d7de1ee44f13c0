import { DomainError } from '@commerce/platform';
import { normalizeEmail, validEmail, validName } from '../src/domain/user.ts';
import { checkPasswordPolicy } from '../src/domain/password-policy.ts';
import { patchedAddress, validAddress } from '../src/domain/address.ts';
import { decideRefresh, type StoredRefreshToken } from '../src/domain/session.ts';

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError && error.code === 'BAD_USER_INPUT') return error.details.field as string;
    throw error;
  }
  return undefined;
}

describe('emails and names', () => {
  it('normalizes emails so one address is one account regardless of case', () => {
    expect(normalizeEmail('  Ann.Lee@Example.COM ')).toBe('ann.lee@example.com');
    expect(validEmail('Ann@Example.com')).toBe('ann@example.com');
  });

  it.each(['', 'ann', 'ann@', '@example.com', 'ann@example', 'a b@example.com', `${'a'.repeat(250)}@example.com`])(
    'refuses the email %p',
    (email) => {
      expect(fieldOf(() => validEmail(email))).toBe('email');
    },
  );

  it.each(['4111111111111111@x.com', 'x4111-1111-1111-1111@example.com', '\uff14111111111111111@x.com'])(
    'refuses an email holding a card number (%p)',
    (email) => {
      expect(fieldOf(() => validEmail(email))).toBe('email');
    },
  );

  it('trims names and refuses empty, overlong or control-character names', () => {
    expect(validName('  Ann   Lee ')).toBe('Ann Lee');
    expect(fieldOf(() => validName('   '))).toBe('name');
    expect(fieldOf(() => validName('x'.repeat(101)))).toBe('name');
    expect(fieldOf(() => validName('Ann\u0000Lee'))).toBe('name');
  });
});

describe('password policy', () => {
  it('accepts a long passphrase', () => {
    expect(fieldOf(() => checkPasswordPolicy('correct horse battery staple', { email: 'ann@example.com' }))).toBeUndefined();
  });

  it.each([
    ['too short', 'short1!'],
    ['too long', 'x'.repeat(64) + 'y'.repeat(65)],
    ['one repeated character', 'aaaaaaaaaaaa'],
    ['a breach-list favourite', 'Password123'],
  ])('refuses a password that is %s', (_case, password) => {
    expect(fieldOf(() => checkPasswordPolicy(password))).toBe('password');
  });

  it('refuses a password built from the email or name, naming the given field', () => {
    expect(fieldOf(() => checkPasswordPolicy('annabelle-2026!', { email: 'annabelle@example.com' }))).toBe('password');
    expect(fieldOf(() => checkPasswordPolicy('i am Ann Lee!!', { name: 'Ann Lee' }, 'newPassword'))).toBe('newPassword');
  });
});

describe('addresses', () => {
  const input = {
    recipientName: ' Ann Lee ',
    line1: '1 Main St',
    city: 'Springfield',
    postalCode: '12345',
    country: 'us',
    line2: '  ',
  };

  it('trims, upper-cases the country and turns blank optional fields into null', () => {
    expect(validAddress(input)).toEqual({
      label: null,
      recipientName: 'Ann Lee',
      line1: '1 Main St',
      line2: null,
      city: 'Springfield',
      region: null,
      postalCode: '12345',
      country: 'US',
      phone: null,
    });
  });

  it.each([
    ['recipientName', { recipientName: ' ' }],
    ['country', { country: 'USA' }],
    ['country', { country: '1A' }],
    ['phone', { phone: 'call me maybe' }],
    ['phone', { phone: '+4111111111111111' }], // no phone number has 16 digits: a card number
    ['phone', { phone: '+1 4111 1111 1111 1111' }],
    ['line1', { line1: 'x'.repeat(201) }],
  ])('refuses a bad %s', (field, change) => {
    expect(fieldOf(() => validAddress({ ...input, ...change }))).toBe(field);
  });

  it('patches: omitted fields stay, null clears optional ones, required ones cannot be cleared', () => {
    const current = validAddress({ ...input, label: 'Home', phone: '+1 555 0100' });
    expect(patchedAddress(current, { city: 'Shelbyville', label: null })).toMatchObject({
      city: 'Shelbyville',
      label: null,
      phone: '+1 555 0100',
      line1: '1 Main St',
    });
    expect(fieldOf(() => patchedAddress(current, { line1: null }))).toBe('line1');
  });
});

describe('refresh token decisions', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const token: StoredRefreshToken = {
    id: 't1',
    familyId: 'f1',
    userId: 'u1',
    expiresAt: new Date('2026-06-02T12:00:00Z'),
    rotatedAt: null,
    familyRevokedAt: null,
  };

  it('rotates the current, unexpired token of a live family', () => {
    expect(decideRefresh(token, now)).toBe('rotate');
  });

  it('calls a rotated token presented again reuse, even after it expired', () => {
    expect(decideRefresh({ ...token, rotatedAt: new Date('2026-06-01T11:00:00Z') }, now)).toBe('reuse');
    expect(decideRefresh({ ...token, rotatedAt: now, expiresAt: new Date('2026-05-01T00:00:00Z') }, now)).toBe('reuse');
  });

  it('refuses expired tokens and any token of a revoked family', () => {
    expect(decideRefresh({ ...token, expiresAt: now }, now)).toBe('expired');
    expect(decideRefresh({ ...token, familyRevokedAt: now, rotatedAt: now }, now)).toBe('revoked');
  });
});

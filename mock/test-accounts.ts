/**
 * Sandbox test accounts and the email one-time-password sign-in (nightly-operations.md §6; issue #13): a test account
 * per environment (`GET/POST/DELETE /environments/{environmentId}/test/account` → TestAccountResponse
 * {code, email, phone}, the email with `+dynamic_test` right before the @, a US 555 phone number, a static code),
 * `POST /sdk/{environmentId}/emailVerifications/create` (→ EmailVerificationCreateResponse {verificationUUID, email})
 * and `POST /sdk/{environmentId}/emailVerifications/signin` (→ VerifyResponse with a real RS256 JWT of the
 * environment's key). A wrong code or an unknown verification gets 422 UnprocessableEntity with its documented code
 * (`wrong_email_verification_token`, `invalid_email_verification`: UnprocessableEntityErrorCode); attempts are
 * limited by the profile's `otp` (create) and `signin` policies, which the request pipeline applies before this.
 */
import { Drbg } from './seed.js';

/** A test account as the admin API shows it (TestAccountResponse). */
export interface TestAccount {
  readonly code: string;
  readonly email: string;
  readonly phone: string;
}

/** One pending email verification (created, not yet used). */
interface Verification {
  readonly environmentId: string;
  readonly email: string;
  readonly code: string;
}

/** Why a sign-in was refused: 422 with the documented UnprocessableEntityErrorCode. */
export interface SignInRefusal {
  readonly error: string;
  readonly code: 'invalid_email_verification' | 'wrong_email_verification_token';
}

/** Verifications kept at most (oldest dropped first), so a flood of `create` calls cannot grow memory. */
const MAX_VERIFICATIONS = 10_000;

/**
 * The test accounts and pending email verifications of every environment. Deterministic for a seed: the same
 * `MOCK_SEED` gives the same accounts, codes and verification ids. `reset()` restores the seed state.
 */
export class TestAccounts {
  readonly #seed: string;
  readonly #environmentIds: readonly string[];
  #rng!: Drbg;
  #accounts = new Map<string, TestAccount>();
  #verifications = new Map<string, Verification>();

  constructor(seed: string, environmentIds: readonly string[]) {
    this.#seed = seed;
    this.#environmentIds = environmentIds;
    this.reset();
  }

  /** Every environment starts with a test account (a sandbox as the suite's nightly job finds it). */
  reset(): void {
    this.#rng = new Drbg(this.#seed, 'test-accounts');
    this.#accounts = new Map();
    this.#verifications = new Map();
    for (const id of this.#environmentIds) this.#accounts.set(id, this.#newAccount(id));
  }

  /** The environment's test account, if it has one (`getTestAccount`). */
  get(environmentId: string): TestAccount | undefined {
    return this.#accounts.get(environmentId);
  }

  /** Creates the environment's test account, or returns the one it has (`createTestAccount`). */
  create(environmentId: string): TestAccount {
    let account = this.#accounts.get(environmentId);
    if (!account) this.#accounts.set(environmentId, (account = this.#newAccount(environmentId)));
    return account;
  }

  /** Deletes the test account; false if there was none (`deleteTestAccount` → 404). */
  delete(environmentId: string, keep = false): boolean {
    if (!this.#accounts.has(environmentId)) return false;
    if (!keep) this.#accounts.delete(environmentId);
    return true;
  }

  /**
   * Starts an email verification (`createEmailVerification`). The test account's address gets its static code;
   * any other address gets a code only its (simulated) inbox knows.
   */
  createVerification(environmentId: string, email: string): string {
    const account = this.#accounts.get(environmentId);
    const code = account && account.email.toLowerCase() === email.toLowerCase() ? account.code : this.#code();
    const id = this.#rng.uuid();
    if (this.#verifications.size >= MAX_VERIFICATIONS)
      this.#verifications.delete(this.#verifications.keys().next().value!);
    this.#verifications.set(id, { environmentId, email, code });
    return id;
  }

  /** Uses a verification (`signInWithEmailVerification`): the email on success (once), else the refusal. */
  signIn(environmentId: string, verificationUUID: string, token: string): { email: string } | SignInRefusal {
    const v = this.#verifications.get(verificationUUID);
    if (!v || v.environmentId !== environmentId)
      return { error: 'Invalid email verification', code: 'invalid_email_verification' };
    if (token !== v.code) return { error: 'Wrong email verification token', code: 'wrong_email_verification_token' };
    this.#verifications.delete(verificationUUID);
    return { email: v.email };
  }

  /**
   * The environment's account: its code and phone come from the seed and the environment id alone, so a deleted and
   * re-created account has the same static code, whatever other requests came in between (concurrent workers).
   */
  #newAccount(environmentId: string): TestAccount {
    const rng = new Drbg(this.#seed, `test-account:${environmentId}`);
    return {
      code: String(Number.parseInt(rng.hex(8), 16) % 1_000_000).padStart(6, '0'),
      email: `nightly-${environmentId.slice(0, 8)}+dynamic_test@example.com`,
      phone: `+1555${String(Number.parseInt(rng.hex(6), 16) % 10_000_000).padStart(7, '0')}`,
    };
  }

  /** A 6-digit code (EmailVerificationVerifyRequest.verificationToken: "A 6-digit number"). */
  #code(): string {
    return String(Number.parseInt(this.#rng.hex(8), 16) % 1_000_000).padStart(6, '0');
  }
}

// The Account type, the rule for a valid id, and the bytes an account is stored and answered as.

export interface Account {
  readonly id: string;
  readonly name: string;
}

/** Ids are decimal digits, as the seed's "10000".."10099"; the bound keeps keys small. */
export const ACCOUNT_ID_PATTERN = /^[0-9]{1,20}$/;
export const ACCOUNT_ID_RULE = 'accountId must be 1 to 20 decimal digits, for example 10000';

export function isValidAccountId(id: string): boolean {
  return ACCOUNT_ID_PATTERN.test(id);
}

/** The exact bytes a lookup answers with: serialised once, when the account is stored. */
export function encodeAccount(account: Account): Buffer {
  return Buffer.from(JSON.stringify({ id: account.id, name: account.name }), 'utf8');
}

import type { AccessPolicy } from "@money/rpc";

/**
 * Who may call each ledger method. Users reach only what they own: the use
 * cases check that a user's token subject is the owner (NOT_OWNER).
 */
export const LEDGER_ACCESS: AccessPolicy = {
  CreateAccount: ["admin", "service"],
  GetAccount: ["admin", "service", "auditor", "user"],
  ListAccounts: ["admin", "service", "auditor", "user"],
  FreezeAccount: ["admin"],
  UnfreezeAccount: ["admin"],
  CloseAccount: ["admin"],
  SetOverdraftLimit: ["admin"],

  PostTransaction: ["admin", "service"],
  PostTransactions: ["admin", "service"],
  RecordPayment: ["admin", "service"],
  Transfer: ["admin", "service"],
  CreatePending: ["admin", "service"],
  PostPending: ["admin", "service"],
  VoidPending: ["admin", "service"],
  // The refunds saga calls these as a `service` principal.
  ReverseTransaction: ["admin", "service"],
  TransitionTransaction: ["admin", "service"],
  GetTransaction: ["admin", "service", "auditor"],
  ListTransactionHistory: ["admin", "service", "auditor"],
  ListTransactions: ["admin", "service", "auditor"],

  GetBalance: ["admin", "service", "auditor", "user"],
  ListEntries: ["admin", "service", "auditor", "user"],

  CreateWallet: ["admin", "service", "user"],
  GetWallet: ["admin", "service", "auditor", "user"],
  TopUpWallet: ["admin", "service"],
  TransferBetweenWallets: ["admin", "service", "user"],
  TransferByMobile: ["admin", "service", "user"],
  ListWalletTransactions: ["admin", "service", "auditor", "user"],

  GetTrialBalance: ["auditor", "admin"],
  GetPeriodReport: ["auditor", "admin"],
  CheckBalances: ["auditor", "admin"],
};

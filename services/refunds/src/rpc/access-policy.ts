import type { AccessPolicy } from "@money/rpc";

/**
 * Who may call each refunds method. Maker-checker: requesters (users,
 * staff, services, admins) never decide; approvers decide but cannot
 * request; operators (admins) retry or resolve parked sagas. Reads are
 * narrowed further by the use cases: a requester sees only its own refunds.
 */
export const REFUNDS_ACCESS: AccessPolicy = {
  RequestRefund: ["user", "staff", "admin", "service"],
  ApproveRefund: ["approver"],
  RejectRefund: ["approver"],
  CancelRefund: ["user", "staff", "admin", "service"],
  GetRefund: ["admin", "auditor", "approver", "user", "staff", "service"],
  ListRefunds: ["admin", "auditor", "approver", "user", "staff", "service"],
  ListPendingApprovals: ["approver", "admin"],
  RetrySaga: ["admin"],
  ResolveSaga: ["admin"],
  SetApprovalPolicy: ["admin"],
  GetApprovalPolicy: ["admin", "auditor", "approver"],
};

// Every callback_id, action_id and block_id, shared by block builders, listeners and tests.
export const command = '/credits';

export const actions = {
  history: 'history_open',
  requestOpen: 'request_more_open',
  approve: 'request_approve',
  deny: 'request_deny',
  taskDone: 'vendor_task_done',
  adminMenu: 'admin_menu_pick',
  syncConfirm: 'sync_correction_confirm',
  syncDismiss: 'sync_correction_dismiss',
} as const;

export const views = {
  request: 'request_submit',
  approve: 'approve_submit',
  adminSeat: 'admin_seat_submit',
  adminRevoke: 'admin_revoke_submit',
  adminAdjust: 'admin_adjust_submit',
  adminAssign: 'admin_assign_submit',
  adminUnassign: 'admin_unassign_submit',
  adminPurchase: 'admin_purchase_submit',
  adminCatalog: 'admin_catalog_submit',
  adminPromote: 'admin_promote_submit',
} as const;

/** Input blocks: a modal's errors are keyed by these. */
export const blocks = {
  amount: 'amount',
  reason: 'reason',
  pack: 'pack',
  user: 'user',
  plan: 'plan',
  kind: 'kind',
  key: 'key',
  name: 'name',
  quantity: 'quantity',
  reference: 'reference',
  reassign: 'reassign',
  expires: 'expires',
  tool: 'tool',
  plans: 'plans',
  vendorUser: 'vendor_user',
  unit: 'unit',
  dailyLimit: 'daily_limit',
  budget: 'overage_budget',
} as const;

/** The action inside each input block. */
export const inputs = {
  amount: 'amount_input',
  reason: 'reason_input',
  pack: 'pack_select',
  user: 'user_select',
  plan: 'plan_input',
  kind: 'kind_select',
  key: 'key_input',
  name: 'name_input',
  quantity: 'quantity_input',
  reference: 'reference_input',
  reassign: 'reassign_select',
  expires: 'expires_input',
  tool: 'tool_select',
  plans: 'plans_select',
  vendorUser: 'vendor_user_input',
  unit: 'unit_input',
  dailyLimit: 'daily_limit_input',
  budget: 'overage_budget_input',
} as const;

/** E-mail builders: the partner's update message and the data team's alerts. */
export { buildUpdateEmail, type DeliveryFailure, type UpdateEmailInput } from './update-email.js';
export { sendPartnerUpdate, type PartnerUpdateInput, type PartnerUpdateResult } from './partner-update.js';
export { buildAlertEmail, type AlertCheck, type AlertEmailInput } from './alert-email.js';
export { escapeHtml, formatBytes, formatInteger, formatMoney } from './format.js';

/** @keyward/client: what a licensed program embeds to call home to a Keyward server. */
export { KeywardClient, newNonce } from './client.js';
export type { CheckInput, CheckResult, KeywardClientOptions, LicenceFileResult } from './client.js';
export { computerIdFrom, machineComputerId, readMachineIdentifier, suspiciousIdentifierReason } from './computer-id.js';
export type { MachineIdentifier, MachineIdentifierSource } from './computer-id.js';
export { verifySignature, parseSignatureHeader } from './signature.js';
export type { PinnedKey, SignatureCheck } from './signature.js';
export { verifyLicenceFile } from './licence-file.js';
export type { LicenceFileExpectations, LicenceFilePayload } from './licence-file.js';
export { KeywardClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export type { AnswerCode, CallhomeAnswer, ContentOffer, Download, ErrorAnswer, LicenceDetails, UpdateOffer } from './answer.js';

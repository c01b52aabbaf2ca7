import createError from '@fastify/error';

export const InvalidInput = createError<'NEWS_INVALID_INPUT', 400, [string]>('NEWS_INVALID_INPUT', '%s', 400);
export const InvalidLink = createError('NEWS_INVALID_LINK', 'This link is not valid. Copy the whole address from the email, or use the newest email we sent.', 400);
export const ConfirmExpired = createError('NEWS_CONFIRM_EXPIRED', 'This confirmation link has expired or has already been used. Sign up again to get a new one.', 400);
export const PostNotFound = createError('NEWS_POST_NOT_FOUND', 'There is no such post.', 404);
export const SlugTaken = createError('NEWS_SLUG_TAKEN', 'Another post already uses this address (slug). Choose a different one.', 409);
export const CampaignNotFound = createError('NEWS_CAMPAIGN_NOT_FOUND', 'There is no such campaign.', 404);
export const CampaignNotDraft = createError('NEWS_CAMPAIGN_NOT_DRAFT', 'This campaign has already been sent or is being sent; it can no longer be changed.', 409);
export const CampaignState = createError<'NEWS_CAMPAIGN_STATE', 409, [string]>('NEWS_CAMPAIGN_STATE', '%s', 409);
export const PostAlreadySent = createError<'NEWS_POST_ALREADY_SENT', 409, [string]>('NEWS_POST_ALREADY_SENT', 'The post "%s" has already been sent to this list; a post is never sent twice. Remove it from the campaign.', 409);
export const WordingChanged = createError('NEWS_WORDING_CHANGED', 'The sign-up wording changed while this page was open. Please read it again and resubmit.', 409);
export const Suppressed = createError('NEWS_SUPPRESSED', 'This address is on the do-not-mail list (it bounced, complained or asked to be forgotten), so we will not send to it. Staff can lift this on request.', 409);
export const NoSubscriber = createError('NEWS_NO_SUBSCRIBER', 'No subscriber has this email address.', 404);

import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';
import { kernelSubjectData } from '../../kernel/privacy/kernel.subject-data.js';
import { accountsSubjectData } from '../accounts/index.js';
import { licensingSubjectData } from '../licensing/index.js';
import { ordersSubjectData } from '../orders/index.js';
import { billingSubjectData } from '../billing/index.js';
import { newsletterSubjectData } from '../newsletter/index.js';
import { supportSubjectData } from '../support/index.js';
import { testimonialsSubjectData } from './testimonials.js';
import { subscriptionsSubjectData } from '../subscriptions/index.js';
import { resellersSubjectData } from '../resellers/index.js';

/**
 * Every module's subject-data provider, in one list (kernel/privacy/subject-data.ts has the contract).
 * A module that adds a table with personal data about customers, subscribers or support users adds its
 * provider here (one line, appended); privacy's tests fail until every such table is claimed.
 */
export const subjectDataProviders: SubjectDataProvider[] = [];
subjectDataProviders.push(kernelSubjectData);
subjectDataProviders.push(accountsSubjectData);
subjectDataProviders.push(licensingSubjectData);
subjectDataProviders.push(ordersSubjectData);
subjectDataProviders.push(billingSubjectData);
subjectDataProviders.push(newsletterSubjectData);
subjectDataProviders.push(supportSubjectData);
subjectDataProviders.push(testimonialsSubjectData);
subjectDataProviders.push(subscriptionsSubjectData);
subjectDataProviders.push(resellersSubjectData);

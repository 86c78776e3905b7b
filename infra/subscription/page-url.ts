/** The subscription page: the same URL, asked for explicitly so any browser (or in-app one) gets HTML. */
export const subscriptionPageUrl = (subscriptionUrl: string) => `${subscriptionUrl}?format=html`;

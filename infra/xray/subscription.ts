// The subscription URL's formats live in infra/subscription/; the token stays importable from here.
export { newSubscriptionToken } from '../subscription/token';

// Races a promise against a deadline: the one way tests and the bench bound a wait. The package's
// own helper, so the repository has one.

export { withDeadline } from '../../packages/health-views/test/helpers/deadline.js';

/* global module */
// Lets this area's tests run while the shared Temporal global setup is unavailable: npx jest --globalSetup <this> --globalTeardown <this>.
module.exports = async () => {};

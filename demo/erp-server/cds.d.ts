// @sap/cds ships its types in @cap-js/cds-types, which links itself in with an install script;
// the hub installs without scripts, so the demo types the few calls it makes as `any`.
declare module '@sap/cds';

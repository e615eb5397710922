// `moai-session uninstall claude-code` lives beside install (they share their options and checks).
export { uninstallCommand, type InstallCommandOptions as UninstallCommandOptions } from './install.js';

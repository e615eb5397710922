// A setup file, run before each test file. The workers are not isolated (vitest.config.ts),
// so without this a module of ours imported by two files would be evaluated once, its
// top-level state and hooks belonging to the first file only. Forgetting the module
// registry here gives each file its own fresh copy of src/ and test/ modules, as
// isolation would; only node_modules packages, which load slowly and hold no state of
// ours, stay loaded.
import { vi } from 'vitest';

vi.resetModules();

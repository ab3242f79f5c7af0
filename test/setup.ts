/**
 * Preloaded before every test file (bunfig.toml): integration tests start daemons, mount filesystems
 * and build repositories, so a test gets 60 s before it counts as hung (Bun's default is 5 s).
 */
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);

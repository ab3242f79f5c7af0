/** The Antares end-to-end suite with job mounts served by fuse-overlay (forced in the config). */
import { antaresSuite } from "./suite.ts";

antaresSuite("fuse-overlay");

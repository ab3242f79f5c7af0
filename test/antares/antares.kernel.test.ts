/** The Antares end-to-end suite with job mounts served by kernel-overlayfs (forced in the config). */
import { antaresSuite } from "./suite.ts";

antaresSuite("kernel-overlayfs");

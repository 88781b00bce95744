// The admin console (/admin/): the shell (shell.ts) and its sections (sections.ts).

import "./sections";
import { start } from "./shell";

start();

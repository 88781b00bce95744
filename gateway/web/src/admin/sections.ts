// Every section of the admin console, in no particular order (the shell orders the navigation).
// Each import registers its section.

import "./sites";
import "./users";
import "./groups";
import "./roles";
import "./security";
import "./audit";
import "./tenants";
import "./settings";
import "./tags";
import "./canned";
import "./blacklist";

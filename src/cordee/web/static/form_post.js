// response_mode=form_post (OAuth 2.0 Form Post Response Mode): send the answer to the application
// at once. A file, not an inline script: pages allow scripts from this site's files only (CSP).
"use strict";
document.getElementById("form-post").submit();

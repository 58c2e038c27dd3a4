"""The CDK v2 app of Onboard (installed as `onboard_cdk`): a platform stack and one stack per source.

Everything a stack needs comes from `generated/<source>/manifest.json` and the files beside it, and
from the project's optional `deploy.yaml`.
"""

import os

# jsii prints a banner about Node.js support on every start; the machine's Node 20 works.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

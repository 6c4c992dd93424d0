# Auto-ReID as a Snakemake DAG: wiring only. Every rule calls one `autoreid` command; paths and
# experiment lists come from autoreid.experiments, parameters from params/*.yaml.
#   snakemake tables                         # embedded tiny profile (workflow/profiles/default)
#   snakemake tables --cores 1 --resources gpu=1
#   snakemake -n tables --configfile params/paper.yaml
import os

configfile: os.path.join(workflow.basedir, "params", "default.yaml")
report: "workflow/report/workflow.rst"   # snakemake tables --report report.html


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/tables.smk"


rule tables:
    input:
        TABLE_FILES,
        FIGURES,

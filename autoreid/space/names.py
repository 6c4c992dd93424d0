"""Op names and search spaces as plain data (no torch import), shared by the op table, genotype
files and derivation."""

OP_NAMES = ("none", "avg_pool_3x3", "max_pool_3x3", "skip_connect", "sep_conv_3x3",
            "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "part_aware")

# The search spaces of the paper (§3.1 and §3.3). The order fixes the columns of alpha.
SPACES: dict[str, tuple[str, ...]] = {
    "standard": ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                 "dil_conv_3x3"),
    "reid": ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
             "dil_conv_3x3", "part_aware"),
}

POOLS = ("max_pool_3x3", "avg_pool_3x3")

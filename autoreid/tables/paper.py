"""The paper's own numbers (Quan et al., ICCV 2019), shown beside ours in every table."""

# Table 1: mAP, R1, R5, R10, Params (M), FLOPs (G); Market-1501, no ImageNet pre-training.
TABLE1 = {
    "ResNet-18": (66.0, 85.2, 94.6, 96.5, 11.6, 1.7),
    "ResNet-34": (68.0, 86.7, 94.8, 96.6, 21.7, 3.4),
    "ResNet-50": (68.5, 87.2, 95.5, 97.1, 25.1, 3.8),
    "DARTS": (65.2, 85.6, 94.3, 96.4, 9.1, 1.7),
    "GDAS": (66.8, 86.5, 94.7, 96.9, 13.5, 2.3),
    "Baseline (run 1)": (68.5, 87.0, 95.4, 97.1, 11.9, 2.0),
    "Baseline (run 2)": (68.2, 86.8, 95.6, 97.3, 10.8, 1.9),
    "Baseline (run 3)": (65.8, 85.8, 95.0, 96.8, 8.6, 1.6),
    "Baseline (run 4)": (66.5, 86.5, 95.0, 96.9, 9.0, 1.7),
    "Baseline + ReID Search Space (run 1)": (71.3, 90.0, 96.5, 97.7, 10.9, 1.7),
    "Baseline + ReID Search Space (run 2)": (71.2, 89.1, 96.1, 97.5, 14.8, 2.2),
    "Baseline + ReID Search Space (run 3)": (74.6, 90.7, 96.9, 98.1, 13.1, 2.1),
    "Baseline + ReID Search Space (run 4)": (72.2, 89.3, 96.6, 97.8, 14.6, 2.0),
    "Retrieval + ReID Search Space (run 1)": (72.7, 89.7, 96.7, 98.0, 11.4, 1.8),
    "Retrieval + ReID Search Space (run 2)": (73.4, 90.2, 96.4, 97.7, 14.5, 2.3),
    "Retrieval + ReID Search Space (run 3)": (73.1, 89.5, 96.6, 97.9, 13.1, 2.0),
    "Retrieval + ReID Search Space (run 4)": (74.2, 90.3, 96.6, 97.9, 14.1, 2.1),
}

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

# Table 5: CUHK03 (new protocol); (labeled R1, labeled mAP, detected R1, detected mAP); None where
# the paper quotes no number. Literature rows as quoted by the paper.
TABLE5 = {
    "PAN": (36.9, 35.0, 36.3, 34.0),
    "SVDNet": (40.9, 37.8, 41.5, 37.3),
    "HA-CNN": (44.4, 41.0, 41.7, 38.6),
    "AOS": (None, None, 47.7, 43.3),
    "MLFN": (54.7, 49.2, 52.8, 47.8),
    "PCB": (None, None, 63.7, 57.5),
    "Mancs": (69.0, 63.9, 65.5, 60.5),
    "DG-Net": (None, None, 65.6, 61.1),
    "Baseline": (75.0, 70.1, 70.5, 66.5),
    "Auto-ReID": (77.9, 73.0, 73.3, 69.3),
}

# Table 6: MSMT17; (R1, R5, R10, mAP).
TABLE6 = {
    "GoogleNet": (47.6, 65.0, 71.8, 23.0),
    "PDC": (58.0, 73.6, 79.4, 29.7),
    "GLAD": (61.4, 76.8, 81.6, 34.0),
    "PCB": (68.2, 81.2, 85.5, 40.4),
    "Baseline": (74.7, 86.1, 89.5, 48.2),
    "Auto-ReID": (78.2, 88.2, 91.1, 52.5),
}

# Table 2 (search with the reid space and softmax; no ImageNet): rows by position — search
# configuration i in (C16 l2222, C16 l3463, C32 l2222, C32 l3463) x training configuration j in
# the same order; (R1, mAP, Params M).
TABLE2 = [
    [(81.2, 58.9, 1.1), (79.5, 53.5, 1.7), (86.4, 66.0, 3.8), (85.4, 62.7, 5.9)],
    [(77.3, 54.0, 1.0), (81.2, 56.2, 1.4), (85.9, 66.0, 3.1), (87.2, 66.5, 4.9)],
    [(80.7, 58.3, 1.2), (80.3, 56.7, 1.9), (87.6, 68.3, 4.1), (85.1, 64.9, 6.6)],
    [(78.0, 55.4, 1.2), (80.0, 55.5, 1.8), (85.6, 66.2, 3.9), (86.5, 64.6, 6.2)],
]

# Table 3 (Market-1501 with ImageNet pre-training): (backbone, Params M, R1, mAP); Params as
# printed (">25.1" where the paper gives a lower bound). "+ RK": with re-ranking.
TABLE3 = {
    "PAN": ("ResNet-50", ">25.1", 82.8, 63.3),
    "TriNet": ("ResNet-50", "25.1", 84.9, 69.1),
    "AOS": ("ResNet-50", ">25.1", 86.4, 70.4),
    "MLFN": ("ResNeXt-50", ">25.0", 90.0, 74.3),
    "DuATM": ("DenseNet-121", ">8.0", 91.4, 76.6),
    "PCB": ("ResNet-50", "27.2", 93.8, 81.6),
    "Mancs": ("ResNet-50", ">25.1", 93.1, 82.3),
    "HPM": ("ResNet-50", "25.1", 94.2, 82.7),
    "Baseline": ("searched", "11.9", 93.8, 83.4),
    "Auto-ReID": ("searched", "13.1", 94.5, 85.1),
    "TriNet + RK": ("ResNet-50", "25.1", 86.7, 81.1),
    "AOS + RK": ("ResNet-50", ">25.1", 88.7, 83.3),
    "AACN + RK": ("GoogleNet", ">8.0", 88.7, 83.0),
    "PSE+ECN + RK": ("ResNet-50", ">25.1", 90.3, 84.0),
    "PCB + RK": ("ResNet-50", "27.2", 95.1, 91.9),
    "Baseline + RK": ("searched", "11.9", 94.8, 93.5),
    "Auto-ReID + RK": ("searched", "13.1", 95.4, 94.2),
}

# Table 4 (no ImageNet): (mAP, R1, Params M, FLOPs G).
TABLE4 = {
    "DARTS": (65.2, 85.6, 9.1, 1.75), "GDAS": (66.8, 86.5, 13.5, 2.3),
    "Baseline": (68.5, 87.0, 11.9, 2.03), "DARTS+PCB": (70.3, 86.9, 9.1, 1.75),
    "GDAS+PCB": (68.1, 86.6, 13.5, 2.3), "Baseline+PCB": (70.2, 86.6, 11.9, 2.03),
    "Auto-ReID": (74.6, 90.7, 13.1, 2.05),
}

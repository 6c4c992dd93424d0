"""A trained network outside the pipeline: the embedding API (`model`), ONNX and TorchScript export
with a parity check (`export`), gallery queries with a feature cache (`query`) and the model card
written beside every model.pt (`card`)."""

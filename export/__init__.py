"""Export: reference models, ONNX, quantization, accuracy gate, bundle writer, engine build."""

"""Public library for the QLoRA systems (``qunlp`` and ``classify-generate``): what both use, in one place.

- :mod:`systems.lora.config`: the shared config sections and the :class:`~systems.lora.config.QLoRAConfig`
  protocol a system's config satisfies;
- :mod:`systems.lora.basemodel`: finding, converting (gguf) and hashing the base model; setup checks;
- :mod:`systems.lora.modeling`: tokenizer, 4-bit base model, LoRA adapters (peft);
- :mod:`systems.lora.prompts`: chat samples, prompt rendering with the model's chat template, encoding;
- :mod:`systems.lora.training`: one QLoRA training stage (Trainer, answer-only loss, resume, adapter card);
- :mod:`systems.lora.cards`: adapter cards, each with the ``kind`` of system that made it;
- :mod:`systems.lora.generation`: batched greedy generation (transformers);
- :mod:`systems.lora.postprocess`: raw completion → answer (no thinking, no citations, word limit).

Importing the package, its config, cards, prompts and postprocess modules is light; torch loads in training,
modeling and generation when called.
"""

"""Moderation: one review queue of proposals from people and robots, roles and locks.

Public surface (others import these, nothing else):

- commands: proposal_submit, proposal_edit, proposal_mark_same, proposal_accept,
  proposal_reject, proposal_supersede, proposal_attach_evidence, proposal_bulk_accept,
  proposal_bulk_reject, pair_mark_distinct, pair_unmark_distinct, proposal_id_for
- selectors: pair_is_distinct, distinct_partners, locked_fields, proposal_staleness,
  proposal_list, proposal_pending_counts, proposal_note_for, target_changes
- roles: can_propose, can_apply, can_review, can_see_note, is_robot, robot_user, robot_context
- registry: register_command, command_spec, registered_commands (catalog in commands_catalog)
- models (read-only): Proposal, ProposalEvidence, DistinctPair
"""

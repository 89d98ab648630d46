"""Initial schema: people and access, apps, imports with their files and errors, cases.

The database enforces what it can: a case's tag_id is unique per app case-insensitively
(tag_key), its about unique per app after folding case and white space (about_key, deferrable
so two cases can swap), and import names are unique per app.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('apps',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f('ck_apps_slug_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apps')),
    sa.UniqueConstraint('slug', name=op.f('uq_apps_slug'))
    )
    op.create_table('cases',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('app_id', sa.Uuid(), nullable=False),
    sa.Column('tag_id', sa.Text(), nullable=False),
    sa.Column('tag_key', sa.Text(), sa.Computed('lower(tag_id)', persisted=True), nullable=False),
    sa.Column('case_status', sa.SmallInteger(), nullable=False),
    sa.Column('date_opened', sa.Date(), nullable=False),
    sa.Column('about', sa.Text(), nullable=False),
    sa.Column('about_key', sa.Text(), sa.Computed("lower(regexp_replace(btrim(about), '\\s+', ' ', 'g'))", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by_import', sa.Uuid(), nullable=True),
    sa.Column('updated_by_import', sa.Uuid(), nullable=True),
    sa.CheckConstraint('case_status IN (0, 1)', name=op.f('ck_cases_case_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('app_id', 'about_key', deferrable=True, initially='IMMEDIATE', name='uq_cases_app_about_key'),
    sa.UniqueConstraint('app_id', 'tag_key', name='uq_cases_app_tag_key')
    )
    op.create_index('ix_cases_app_date_opened', 'cases', ['app_id', 'date_opened', 'id'], unique=False)
    op.create_index('ix_cases_app_updated_at', 'cases', ['app_id', 'updated_at', 'id'], unique=False)
    op.create_table('files',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files'))
    )
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_key_at', 'login_failures', ['key', 'failed_at'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('is_owner', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('app_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_api_tokens_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_app_id'), 'api_tokens', ['app_id'], unique=False)
    op.create_table('file_chunks',
    sa.Column('file_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_chunks_file_id_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'seq', name=op.f('pk_file_chunks'))
    )
    # Uploads are CSV read once by the worker: compressing 1 MiB chunks (pglz) costs more time
    # on the way in and out than the disk it saves.
    op.execute("ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table('imports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('app_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('validate_only', sa.Boolean(), nullable=False),
    sa.Column('on_error', sa.String(length=8), nullable=False),
    sa.Column('file_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows_processed', sa.BigInteger(), nullable=False),
    sa.Column('rows_total', sa.BigInteger(), nullable=True),
    sa.Column('bytes_processed', sa.BigInteger(), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error_summary', sa.Text(), nullable=True),
    sa.Column('error_count', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("on_error IN ('fail', 'skip')", name=op.f('ck_imports_on_error')),
    sa.CheckConstraint("status IN ('draft', 'queued', 'validating', 'applying', 'completed', 'failed', 'cancelled')", name=op.f('ck_imports_status')),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_imports_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_imports_created_by_users')),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_imports_file_id_files'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    sa.UniqueConstraint('app_id', 'name', name='uq_imports_app_id_name')
    )
    op.create_index('ix_imports_active', 'imports', ['status'], unique=False, postgresql_where="status IN ('queued', 'validating', 'applying')")
    op.create_index('ix_imports_app_created', 'imports', ['app_id', 'created_at'], unique=False)
    op.create_table('memberships',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('app_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'viewer')", name=op.f('ck_memberships_role')),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_memberships_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'app_id', name=op.f('pk_memberships'))
    )
    op.create_index(op.f('ix_memberships_app_id'), 'memberships', ['app_id'], unique=False)
    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions'))
    )
    op.create_index(op.f('ix_sessions_user_id'), 'sessions', ['user_id'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('app_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('import_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_idempotency_keys_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_idempotency_keys_import_id_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('app_id', 'user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'], unique=False)
    op.create_table('import_errors',
    sa.Column('import_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=True),
    sa.Column('column', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_errors_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'seq', name=op.f('pk_import_errors'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('import_errors')
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index(op.f('ix_sessions_user_id'), table_name='sessions')
    op.drop_table('sessions')
    op.drop_index(op.f('ix_memberships_app_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index('ix_imports_app_created', table_name='imports')
    op.drop_index('ix_imports_active', table_name='imports', postgresql_where="status IN ('queued', 'validating', 'applying')")
    op.drop_table('imports')
    op.drop_table('file_chunks')
    op.drop_index(op.f('ix_api_tokens_app_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_index('ix_login_failures_key_at', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_table('files')
    op.drop_index('ix_cases_app_updated_at', table_name='cases')
    op.drop_index('ix_cases_app_date_opened', table_name='cases')
    op.drop_table('cases')
    op.drop_table('apps')
